# A finding's direction outside kg's controlled list.
# expect: violation kgsh:Finding <9307346/finding/2> kg:direction in
DELETE DATA { <9307346/finding/2> kg:direction kg:SignificantlyDecreased } ;
INSERT DATA { <9307346/finding/2> kg:direction kg:Beneficial }
