# An outcome whose arm is not an intervention of its study.
# expect: violation kgsh:Outcome <23906502/outcome/1> kg:arm class
# expect: violation kgsh:Outcome <23906502/outcome/1> kg:arm kgsh:Outcome-arm-of-study
INSERT DATA { <23906502/outcome/1> kg:arm <23906502/population/1> }
