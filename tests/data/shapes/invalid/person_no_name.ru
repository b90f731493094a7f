# An author without a display name.
# expect: violation kgsh:Person <18719013/author/1> foaf:name minCount
DELETE WHERE { <18719013/author/1> foaf:name ?n }
