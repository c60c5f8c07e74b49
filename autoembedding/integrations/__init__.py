"""Framework integrations: LangChain, LlamaIndex and Chroma classes."""
