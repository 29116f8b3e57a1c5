"""Pricing disclosure and limits: 年化利率 (APR, :mod:`.apr`, pure) and comprehensive cost caps
(:mod:`.caps`)."""
