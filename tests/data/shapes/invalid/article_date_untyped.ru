# A publication date that is a plain string.
# expect: violation kgsh:Article <10027318> prism:publicationDate or
DELETE DATA { <10027318> prism:publicationDate "1999-02"^^xsd:gYearMonth } ;
INSERT DATA { <10027318> prism:publicationDate "Feb 1999" }
