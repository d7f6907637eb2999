/* prom: not yet written */
