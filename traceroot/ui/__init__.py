"""``traceroot ui``: the local store in a web browser (sessions, conversations, traces).

Started by the command only: neither ``import traceroot`` nor ``instrument()`` imports it. The
server is the standard library's; the page is plain HTML, CSS and JavaScript shipped beside it.
"""
