# A mention of two kinds, one found by a rule rather than the tagger, one with two spans.
# expect: violation kgsh:Mention <1638586/mention/1> rdf:type qualifiedMaxCount
# expect: violation kgsh:Mention <1638586/mention/2> kg:foundBy pattern
# expect: violation kgsh:Mention <1638586/mention/3> kg:evidenceSpan maxCount
DELETE DATA { <1638586/mention/2> kg:foundBy "model:tagger-3" } ;
INSERT DATA { <1638586/mention/1> a kg:ParticipantsMention .
              <1638586/mention/2> kg:foundBy "rule:tagger" .
              <1638586/mention/3> kg:evidenceSpan <1638586/span/60-79> }
