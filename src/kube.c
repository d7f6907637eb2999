/* kube: not yet written */
