# A finding whose comparator is not an intervention of its study, and one that compares an arm with itself.
# expect: violation kgsh:Finding <9307346/finding/1> kg:findingComparator class
# expect: violation kgsh:Finding <9307346/finding/1> kg:findingComparator kgsh:Finding-arms-of-study
# expect: violation kgsh:Finding <9307346/finding/2> kg:findingIntervention kgsh:Finding-arms-of-study
# expect: violation kgsh:Finding <9307346/finding/2> kg:findingComparator kgsh:Finding-arms-of-study
DELETE DATA { <9307346/finding/1> kg:findingComparator <9307346/intervention/4> .
              <9307346/finding/2> kg:findingComparator <9307346/intervention/4> } ;
INSERT DATA { <9307346/finding/1> kg:findingComparator <9307346/population/1> .
              <9307346/finding/2> kg:findingComparator <9307346/intervention/1> }
