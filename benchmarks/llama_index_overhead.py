"""LlamaIndex ``VectorStoreIndex`` query engine query with mock models: instrumented over bare.

One process, rounds alternating with traceroot's LlamaIndex integration off and on (spans to a
no-op exporter), CPU time per query; the figure is the ratio of the medians.

    python benchmarks/llama_index_overhead.py [--calls 200 --rounds 11]
"""

from __future__ import annotations

import argparse
import statistics

from _common import set_up_tracing, timed
from llama_index.core import Document, Settings, VectorStoreIndex
from llama_index.core.embeddings import MockEmbedding
from llama_index.core.llms import MockLLM

import traceroot


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=11)
    args = parser.parse_args()

    set_up_tracing()
    Settings.llm = MockLLM(max_tokens=16)
    Settings.embed_model = MockEmbedding(embed_dim=64)
    documents = [
        Document(text=f"Fact {i}: otters hold hands while they sleep. " * 5) for i in range(20)
    ]
    engine = VectorStoreIndex.from_documents(documents).as_query_engine()

    def query() -> object:
        return engine.query("What do otters do?")

    traceroot.instrument(integrations=["llama_index"])
    timed(query, 20)
    traceroot.uninstrument()
    timed(query, 20)
    bare, traced = [], []
    with traceroot.using_attributes(session_id="bench"):
        for _ in range(args.rounds):
            bare.append(timed(query, args.calls))
            traceroot.instrument(integrations=["llama_index"])
            traced.append(timed(query, args.calls))
            traceroot.uninstrument()
    bare_us, traced_us = statistics.median(bare), statistics.median(traced)
    print("LlamaIndex query engine query, MockLLM + MockEmbedding (CPU per query, medians)")
    print(f"  uninstrumented   {bare_us:8.1f} us")
    print(f"  traceroot        {traced_us:8.1f} us   (ratio {traced_us / bare_us:.2f})")


if __name__ == "__main__":
    main()
