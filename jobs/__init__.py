"""Jobs of dr-cluster: image preprocessing, logistic regression, kappa, and the CLI `drc`."""
