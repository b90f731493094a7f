# An affiliation identifier that is an IRI.
# expect: violation kgsh:Author-affiliationIdentifier <18719013/author/1> kg:affiliationIdentifier datatype
INSERT DATA { <18719013/author/1> kg:affiliationIdentifier <https://ror.org/02jx3x895> }
