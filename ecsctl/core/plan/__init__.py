"""Plans: canonical specs are diffed into changes, changes become an ordered step DAG."""
