# An ORCID IRI that is not one.
# expect: violation kgsh:Author-orcid <23685357/author/15> owl:sameAs pattern
DELETE WHERE { <23685357/author/15> owl:sameAs ?o } ;
INSERT DATA { <23685357/author/15> owl:sameAs <https://orcid.org/0000-0001-7984> }
