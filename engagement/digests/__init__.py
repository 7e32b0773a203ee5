"""Weekly email digests for partners and therapists, sent exactly once (SPEC section 7)."""
