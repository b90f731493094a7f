# A design term outside the controlled list.
# expect: violation kgsh:DesignFeature <23906502/design/1> kg:designTerm in
DELETE DATA { <23906502/design/1> kg:designTerm "retrospective" } ;
INSERT DATA { <23906502/design/1> kg:designTerm "retrospectively" }
