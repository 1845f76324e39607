-- Kubernetes clusters: the kubeconfig, sealed by the server (never stored in clear), and
-- the API server's URL (not secret, shown in the cluster's view).
ALTER TABLE clusters ADD COLUMN kubeconfig_sealed TEXT;
ALTER TABLE clusters ADD COLUMN api_server TEXT;
