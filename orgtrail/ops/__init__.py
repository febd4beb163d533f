"""Operations on a live organisation: inventory, the verified cutover, verify, and what
they share (sessions, what a trail records, where it delivers)."""
