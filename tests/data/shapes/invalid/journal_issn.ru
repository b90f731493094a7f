# An ISSN with a digit missing.
# expect: violation kgsh:Journal <../journal/0370635> prism:issn|prism:eIssn pattern
DELETE DATA { <../journal/0370635> prism:issn "0007-0920" } ;
INSERT DATA { <../journal/0370635> prism:issn "0007-092" }
