"""集中度管理 (concentration limits): the lender's net assets (净资产) per period, the limits as
versioned configuration, the related-party group of a borrower (one selector), the exposure of a
customer and a group, the checks at admission, approval and credit-limit setting, and the
concentration report. Models are registered in the ``lending`` app (imported at the end of
:mod:`credo.lending.models`); the migration is lending's ``0020_exposure_limits``."""
