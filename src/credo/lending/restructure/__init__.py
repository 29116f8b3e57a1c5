"""展期 / 重组 / 借新还旧 (loan restructuring).

* :mod:`.rules` — pure rules: the 展期 limits of 《贷款通则》第十二条, the classification floor
  and observation period of 《商业银行金融资产风险分类办法》(2023) 第十九–二十二条;
* :mod:`.quote` — the new schedule of a request, computed with :func:`credo.lending.schedule.generate`;
* :mod:`.services` — request, approve / reject / cancel, execute (journal entries, schedule
  replacement, classification floor); approval goes through the approval flow
  ``lending.restructure`` when a submitter is registered (origination registers one), else
  through the maker-checker permission ``lending.approve_restructure``.
"""
