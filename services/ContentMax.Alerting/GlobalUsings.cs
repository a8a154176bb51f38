// Alerting's parts use one another throughout: rules, their evaluation, SLOs,
// notifications, health, storage and the API.
global using ContentMax.Alerting.Api;
global using ContentMax.Alerting.Evaluation;
global using ContentMax.Alerting.Health;
global using ContentMax.Alerting.Notifications;
global using ContentMax.Alerting.Rules;
global using ContentMax.Alerting.Slos;
global using ContentMax.Alerting.Storage;
global using ContentMax.Contracts.Http;
