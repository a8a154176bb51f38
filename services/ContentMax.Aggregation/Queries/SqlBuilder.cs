using Npgsql;
using NpgsqlTypes;

namespace ContentMax.Aggregation.Queries;

// Numbered parameters for SQL built from parts; every value goes in as a parameter.
public sealed class SqlBuilder
{
    public List<NpgsqlParameter> Parameters { get; } = [];

    public string Add(object value, NpgsqlDbType type)
    {
        Parameters.Add(new NpgsqlParameter { Value = value, NpgsqlDbType = type });
        return "$" + Parameters.Count;
    }
}
