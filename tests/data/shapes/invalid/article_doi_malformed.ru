# A DOI that is not one (as PubMed's record of PMID 10026444 gives it).
# expect: violation kgsh:Doi <23906502> prism:doi pattern
DELETE DATA { <23906502> prism:doi "10.1111/jdv.12223" } ;
INSERT DATA { <23906502> prism:doi "51466" }
