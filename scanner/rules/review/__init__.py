"""Rules about the review itself: waivers that expired or match nothing (obligation 9)."""
