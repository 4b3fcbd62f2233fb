"""Stand-in for the `querystring_parser` package, which MLflow 2.12's server imports and Debian lacks.

Only what MLflow's handlers call is provided: `parser.parse(query_string, normalized=True)`.
Written for the compatibility harness; not used by Tamga.
"""
