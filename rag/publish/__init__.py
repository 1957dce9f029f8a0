"""Issues published from the staff page: an upload checked and read (preview), the
data folder changed atomically (folder), the index re-opened in the background (reindex)."""
