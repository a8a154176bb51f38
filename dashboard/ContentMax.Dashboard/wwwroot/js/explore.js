// The explorer's "Copy as API call": the text is on the page; this only puts it on the clipboard.
window.contentmaxCopy = async (text) => {
    try {
        await navigator.clipboard.writeText(text);
        return true;
    } catch {
        return false;
    }
};
