"""Language models behind one small contract (see base.py)."""

from bot.llm.base import LLM, ChatMessage, FakeLLM

__all__ = ["LLM", "ChatMessage", "FakeLLM"]
