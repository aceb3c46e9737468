"""The LangChain integration (LangGraph included): one trace per top-level run.

Two hooks, no user callbacks to pass:

- LangChain's own extension point for tracers (``register_configure_hook``, the one LangSmith
  uses) puts traceroot's handler in every callback manager it configures, once, beside any
  handler the user added, so runs made anywhere, inside LangGraph too, become spans;
- wherever LangChain enters a runnable's own context (``_set_config_context``, the same place it
  sets LangSmith's parent run), the run's span becomes the current OpenTelemetry span there, so
  provider calls, ``@observe`` functions and other instrumentations nest under it, in sync and
  async code, generators and LangChain's thread pools alike.
"""

from __future__ import annotations

from traceroot import foreign
from traceroot.integrations.base import BaseIntegration, PatchTarget

_HOOKS = "traceroot.integrations.langchain.hooks"


class LangChainIntegration(BaseIntegration):
    name = "langchain"
    modules = ("langchain_core",)
    distribution = "langchain-core"
    supported = ">=0.3.86,<2"
    targets = (
        PatchTarget(
            "langchain_core.runnables.config",
            "_set_config_context",
            f"{_HOOKS}:set_config_context",
            replaces=True,
        ),
        # LangGraph keeps a copy of that function of its own (a private module: optional).
        PatchTarget(
            "langgraph._internal._runnable",
            "_set_config_context",
            f"{_HOOKS}:set_config_context",
            optional=True,
            replaces=True,
        ),
    )

    def instrument(self) -> None:
        super().instrument()
        from traceroot.integrations.langchain import hooks

        hooks.add_handler_to_every_run()
        foreign.covering(self.name, True)

    def uninstrument(self) -> None:
        super().uninstrument()
        import sys

        hooks = sys.modules.get(_HOOKS)
        if hooks is not None:
            hooks.remove_handler()
        foreign.covering(self.name, False)
