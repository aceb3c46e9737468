"""A small LlamaIndex RAG pipeline, traced: an index built, then two questions in one session.

    pip install -e ".[llama-index]" llama-index-llms-openai llama-index-embeddings-openai
    python examples/llamaindex_rag.py

Offline by default (a scripted OpenAI-compatible server on 127.0.0.1 answers the LLM and the
embeddings); the real API when ``OPENAI_API_KEY`` is set.
"""

from __future__ import annotations

import os

import scripted_openai

import traceroot

FACTS = [
    "Sea otters hold hands while they sleep so that they do not drift apart.",
    "Paris has been the capital of France since the 10th century.",
    "The Pacific is the largest and deepest of Earth's oceans.",
]


def main() -> None:
    traceroot.instrument()
    from llama_index.core import Document, Settings, VectorStoreIndex
    from llama_index.embeddings.openai import OpenAIEmbedding
    from llama_index.llms.openai import OpenAI

    if os.environ.get("OPENAI_API_KEY"):
        Settings.llm, Settings.embed_model = OpenAI(model="gpt-4o-mini"), OpenAIEmbedding()
    else:
        base = scripted_openai.start()
        Settings.llm = OpenAI(model="gpt-4o-mini", api_key="offline", api_base=base)
        Settings.embed_model = OpenAIEmbedding(api_key="offline", api_base=base)
    index = VectorStoreIndex.from_documents([Document(text=fact) for fact in FACTS])
    engine = index.as_query_engine(similarity_top_k=2)
    with traceroot.using_session("rag-demo"):
        for question in ("Why do otters hold hands?", "What is the capital of France?"):
            print(f"> {question}\n{engine.query(question)}")
    traceroot.flush()


if __name__ == "__main__":
    main()
