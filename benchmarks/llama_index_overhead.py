"""LlamaIndex ``VectorStoreIndex`` query engine query with mock models: instrumented over bare.

One process, rounds alternating with traceroot's LlamaIndex integration off and on (spans to a
no-op exporter), CPU time per query; the figure is the ratio of the medians.

    python benchmarks/llama_index_overhead.py [--calls 200 --rounds 11]
"""

from __future__ import annotations

import argparse

from _common import off_and_on, set_up_tracing
from llama_index.core import Document, Settings, VectorStoreIndex
from llama_index.core.embeddings import MockEmbedding
from llama_index.core.llms import MockLLM


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

    bare_us, traced_us, _ = off_and_on(query, "llama_index", args.calls, args.rounds)
    print("LlamaIndex query engine query, MockLLM + MockEmbedding (CPU per query, medians)")
    print(f"  uninstrumented   {bare_us:8.1f} us")
    print(f"  traceroot        {traced_us:8.1f} us   (ratio {traced_us / bare_us:.2f})")


if __name__ == "__main__":
    main()
