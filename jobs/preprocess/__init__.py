"""Preprocessing: `images` (pure image math), `task` (one Spark task's body, no Spark),
`job` (the Spark side), `config` (PreprocessConfig, what crosses to the Spark app)."""
