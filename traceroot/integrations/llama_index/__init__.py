"""The LlamaIndex integration: query engines, retrievers, LLMs, embeddings, tools and agents.

LlamaIndex announces its own work through its instrumentation dispatcher; traceroot attaches one
span handler and one event handler to the root dispatcher (once; removed on uninstrument). No
patching. Internal helper spans (text splitters per chunk, private ``_methods``, templating
programs, a model's calls to itself) are folded into their parent: their children and events
land on it.
"""

from __future__ import annotations

from traceroot import foreign
from traceroot.integrations.base import BaseIntegration


class LlamaIndexIntegration(BaseIntegration):
    name = "llama_index"
    modules = ("llama_index.core",)
    distribution = "llama-index-core"
    supported = ">=0.12.52,<1"

    def instrument(self) -> None:
        from traceroot.integrations.llama_index import handlers

        handlers.attach()
        foreign.covering(self.name, True)
        self._instrumented = True

    def uninstrument(self) -> None:
        import sys

        handlers = sys.modules.get("traceroot.integrations.llama_index.handlers")
        if handlers is not None:
            handlers.detach()
        foreign.covering(self.name, False)
        self._instrumented = False
