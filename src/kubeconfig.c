/* kubeconfig: not yet written */
