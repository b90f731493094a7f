# Inclusion criteria with two spans.
# expect: violation kgsh:InclusionCriteria <23906502/inclusion/1> kg:evidenceSpan maxCount
INSERT DATA { <23906502/inclusion/1> kg:evidenceSpan <23906502/span/340-351> }
