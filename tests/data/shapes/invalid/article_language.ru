# A language that is not a three-letter code.
# expect: violation kgsh:Article <18719013> dcterms:language pattern
INSERT DATA { <18719013> dcterms:language "english" }
