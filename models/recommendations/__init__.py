"""Right-sizing recommendations: rules as data, each with what it changes so its effect can be recomputed."""
