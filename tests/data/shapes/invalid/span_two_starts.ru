# A span with two start offsets.
# expect: violation kgsh:Span <23906502/span/9-29> oa:start maxCount
# expect: violation kgsh:Span <23906502/span/9-29> oa:exact kgsh:Span-quote-at-offsets
INSERT DATA { <23906502/span/9-29> oa:start 10 }
