# Evidence that is not a span.
# expect: violation kgsh:EvidenceSpan-link <23906502/intervention/1> kg:evidenceSpan class
INSERT DATA { <23906502/intervention/1> kg:evidenceSpan <23906502/section/2> }
