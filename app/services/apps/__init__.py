"""Apps from the catalog: the catalog and where an app fits (catalog, placement), starting,
cloning and deleting deploys (requests, admission, secret_inputs), and the worker's side of
a deploy (deploy/)."""
