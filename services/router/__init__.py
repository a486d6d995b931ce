"""Router: classifies each reported case, locates it on the org chain and assigns it to its first owner."""
