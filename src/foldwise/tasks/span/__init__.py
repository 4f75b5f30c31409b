"""Task kind span: each row's answer is a piece of its context (extractive QA, tweet sentiment
extraction), predicted from start/end scores over windows of the context."""
