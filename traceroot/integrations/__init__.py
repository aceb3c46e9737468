"""Integrations: plugins found through the ``traceroot.integrations`` entry-point group."""
