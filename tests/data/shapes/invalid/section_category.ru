# An NLM category NLM does not have.
# expect: violation kgsh:AbstractSection <23906502/section/1> kg:nlmCategory in
INSERT DATA { <23906502/section/1> kg:nlmCategory "FINDINGS" }
