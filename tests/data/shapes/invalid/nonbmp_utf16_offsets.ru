# Offsets counted in UTF-16 code units (2 more after the two astral characters) instead of code points.
# expect: violation kgsh:Span <1/span/33-57> oa:exact kgsh:Span-quote-at-offsets
# expect: violation kgsh:Span <1/span/33-57> kg:inSection kgsh:Span-in-section
DELETE DATA { <1/span/33-57> oa:start 33 ; oa:end 57 } ;
INSERT DATA { <1/span/33-57> oa:start 35 ; oa:end 59 }
