"""The semiannual review around a scan: scan configs, waivers and baselines.

Obligation 9 of the financial rulebooks (每半年完成一次系统安全审查, 可追溯、可查证): a review is a
scheduled, repeatable scan (:mod:`scanner.review.config`), accepted risks with an owner and an expiry
(:mod:`scanner.review.waivers`), and a comparison with the previous review (:mod:`scanner.review.baseline`).
"""
