# A SHA-256 digest that is not 64 hex digits.
# expect: violation kgsh:SourceFile <../source/01d575edf6b575199cac39b20ed37f4522b668f81bc892d6e692ad24c0862422> kg:sha256 pattern
DELETE WHERE { <../source/01d575edf6b575199cac39b20ed37f4522b668f81bc892d6e692ad24c0862422> kg:sha256 ?d } ;
INSERT DATA { <../source/01d575edf6b575199cac39b20ed37f4522b668f81bc892d6e692ad24c0862422> kg:sha256 "XYZ" }
