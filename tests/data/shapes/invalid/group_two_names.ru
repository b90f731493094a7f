# A group author with two names.
# expect: violation kgsh:Group <18719013/author/10> foaf:name maxCount
INSERT DATA { <18719013/author/10> foaf:name "Another group" }
