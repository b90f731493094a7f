# A design feature found by a text rule that points at no span.
# expect: violation kgsh:TextProvenance <18719013/design/4> kg:foundBy kgsh:TextProvenance-span
DELETE DATA { <18719013/design/4> kg:foundBy "nlm:mesh" } ;
INSERT DATA { <18719013/design/4> kg:foundBy "rule:design-text" }
