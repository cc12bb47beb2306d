"""Document ingestion: parsing (Markdown, text, HTML, PDF), structure-aware chunking, indexing."""
