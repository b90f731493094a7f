# A publication type that is a qualifier IRI.
# expect: violation kgsh:Article <18719013> kg:publicationType pattern
INSERT DATA { <18719013> kg:publicationType mesh:Q000188 }
