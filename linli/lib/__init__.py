"""Small helpers shared by every app: masking, pinyin, encryption, identity numbers."""
